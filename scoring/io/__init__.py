"""Reading and writing files: safety checks, submissions from any format, the 自评表 template, workbook helpers."""
