"""`tinyrect reproduce`: the paper's Sec. 2.2 variance argument, Figures 2/3 and Tables 1/2 at
small scale. One registry, SECTIONS (name -> module, in the report's order); every section module
exposes the same four parts:

    TITLE                                  the report's heading
    planned_steps(cfg) -> int              training steps, for the progress bar
    run(cfg, data, on_step, log) -> dict   the measurement and its claims (JSON-ready)
    plot(result, out_dir, plt) -> [names]  its figures (PNG files in out_dir)
    render(result) -> [lines]              its part of report.md

run.py is the command (arguments, output folder, progress bar, Ctrl-C), presets.py the sizes per
mode, report.py the report's frame, pool.py the process pool, recipe.py the training recipe,
models.py the nets.
"""
from tinyrect.reproduce import accuracy, depth, input_scale, slopes, variance

SECTIONS = {"variance": variance, "depth": depth, "input_scale": input_scale, "slopes": slopes,
            "accuracy": accuracy}
