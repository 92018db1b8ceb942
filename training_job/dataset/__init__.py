"""The bicycle (0) vs motorcycle (1) dataset: where it comes from, how it is split, its files
and manifest, its S3 copy. `training_job.stage` (`mlwf stage`) puts these together.

- `classes`: the class names and the CIFAR-100 fine labels they come from.
- `layout`: the splits, the manifest's name and format, the image size, the S3 prefix.
- `lst`: the SageMaker ``.lst`` format (``index<TAB>label<TAB>path``), read and written.
- `types`: `Split`, `Dataset`, `LocalFile`, `LocalStaging`.
- `sources`: `load_source` (cifar100, a CIFAR-100 tarball, a staged directory, synthetic).
- `split`: `split_validation`, the stratified seeded validation split.
- `files`: `write_local`, the PNGs, ``.lst`` files and manifest.json on disk.
- `manifest`: `build_manifest`, `read_manifest`.
- `sync`: `upload`, which makes the S3 prefix hold exactly the local staging.
- `staged`: what `mlwf train` reads of the S3 copy: the train split's size, the channels.

Module-level imports stay in the standard library so `mlwf --help` is instant.
"""
