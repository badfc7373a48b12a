"""Jobs: batches of submissions (over processes or a Dask cluster, resumable) and framework test cases."""
