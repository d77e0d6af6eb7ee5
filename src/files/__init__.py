"""The files a run reads and writes, each checked as a hostile file needs: the data (Kaggle's
CSVs, MNIST's IDX folders), class names, model files and their run records, outputs written
whole. It imports nothing else of the project, and returns plain arrays, dicts and strings."""
