"""The only package that imports SpiffWorkflow: parsing, scripting, runtime."""
