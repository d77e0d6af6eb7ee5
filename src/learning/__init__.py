"""What the tutorial, NN_Numpy.py, imports to learn: the training images' distortions, the
made-up non-digits, its checks, command line and plots. Nothing here imports a page or the
use of a trained network (using/, pages/)."""
