"""Questions of lesson 10 with a short answer.   Check: tinyrect check questions10

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. x = max(0, y), y ~ N(0, 1): Var[x] / Var[y]?
q1 = ...

# Q2. Inputs in [-128, 128] and a 10-layer net: the per-layer weight factor (1/128)^(1/L)?
q2 = ...

# Q3. float32 exp overflows above x = ln(largest float32 ≈ 3.4e38): what is that x?
q3 = ...
