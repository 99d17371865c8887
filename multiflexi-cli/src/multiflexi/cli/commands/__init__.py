"""One module per command family of ``multiflexi-cli`` (loaded when the family is used)."""
