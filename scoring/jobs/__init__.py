"""Jobs: batches of submissions over processes, and the test cases declared with frameworks."""
