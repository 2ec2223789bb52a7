"""What only operators and the CLI use: deploy checks, health, demo data."""
