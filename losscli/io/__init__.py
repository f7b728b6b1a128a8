"""Reading input (paths, pipes, compression, CSV blocks, columns, labels) and writing files."""
