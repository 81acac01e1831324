"""Datasets: find, read, convert, validate, split and build them; and the sample-card generator.

What the CLI and the GUI call (each takes `progress(done, total, message)` and a `cancel`
threading.Event where the job is long; results are plain dataclasses from `data.model`):

- `check.check(paths, task=None, border="dual", classes=None, class_map=None, progress, cancel)` → CheckReport
  (or `scan.scan(paths, progress, cancel)` → Scan once, then `check.report_for(scan, task, border, classes,
  class_map)` to judge it again for another task or mapping without reading a file);
- `build.import_dataset(paths, out=None, arch, task, border, side, split_ratios, seed, classes, class_map,
  progress, cancel)` → ImportResult with the `data.yaml` path; `build.trainable(report, classes, side)`;
- `sample.generate(out, count, seed, side, size, defect_rate, progress, cancel)` → list of CardTruth;
- `classmap.ClassMap.load()`, `classmap.save_user_map({...})`; `split.parse_ratios("0.8,0.2,0")`;
- `report.format_text(report)` for a terminal or a "copy report" button.

Modules by job: found/find/find_yolo (what was dropped), readers/* (one format each), imagefile (image headers
and hashes), geometry (the one converter), validate + quality (findings and the score), scan + check (the
parallel read and the report), split + build (the dataset folder), card_spec/cards/wear/scene/sample (sample
cards).
"""
