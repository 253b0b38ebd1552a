"""restore.eval: metrics and the evaluation protocols that papers use.

- :mod:`restore.eval.metrics`: per-image PSNR / SSIM / MS-SSIM (torchmetrics, skimage-exact),
  hole-only metrics, hole-ratio buckets, colourfulness, :class:`~restore.eval.metrics.MetricTracker`.
- :mod:`restore.eval.fid`: FID / KID with a pluggable feature extractor;
  :mod:`restore.eval.lpips`: LPIPS; their Inception and backbone weights from local files only
  (:mod:`restore.eval.weights`).
- :mod:`restore.eval.baselines`: classical inpainting, bicubic SR and grayscale baselines.
- :mod:`restore.eval.protocols`: SR / inpainting / colorization protocols and folder scoring,
  returning JSON-ready dicts; :mod:`restore.eval.inpaint_buckets`: inpainting per hole-ratio bucket.
- :mod:`restore.eval.sharpness`: the gradient-magnitude ratio SR rows report as ``grad_ratio``.
- :mod:`restore.eval.style`: KID to a style domain beside the photos and a colour baseline.
- :mod:`restore.eval.generation`: coverage, FID / KID and the real-vs-real floor of a generator.
- :mod:`restore.eval.report`: one result's table, or several sets side by side (``restore eval``).

Submodules are imported explicitly (``from restore.eval.metrics import psnr``) so that importing
one does not pull in OpenCV, scikit-image or torch-fidelity.
"""
