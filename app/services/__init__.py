"""The product's rules as plain functions, shared by the pages, the API and the CLI."""
