"""Reports: the unit report, the batch summary, the county report and the 整改台账, in Markdown and Excel."""
