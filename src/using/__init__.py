"""Using a trained network: loading it and its answers, your own photos, the Kaggle submission,
the report's figures, and the math checked and shown. It imports the tutorial and files/,
never the pages or the command table (use_network.py)."""
