-- Must fail the check: `SELEC` is not a statement.
SELEC 'Hello';
