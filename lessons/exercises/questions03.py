"""Questions of lesson 03 with a short answer.   Check: tinyrect check questions03

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. Model A's first layer: input 224×224×3, 7×7 kernel, stride 2, padding 3, batch 128. How many
#     bytes does X_col take in float32?
q1 = ...

# Q2. A 1×1 convolution of x (2, 64, 8, 8): how many rows does X_col (C·k·k, N·Ho·Wo) have?
q2 = ...
