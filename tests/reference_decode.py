"""The oracle for intake conformance: what the libraries decode when called directly."""

from __future__ import annotations

import io
import warnings


def reference_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of the first frame as Pillow / pillow-heif / rawpy decode the bytes
    directly, or None when none of them can."""
    import pillow_heif
    import rawpy
    from PIL import Image

    pillow_heif.register_heif_opener()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                return im.size
        except Exception:  # the oracle only needs to know whether it decodes
            pass
        try:
            with rawpy.imread(io.BytesIO(data)) as raw:
                raw.postprocess(half_size=True)  # decodable at all
                return raw.sizes.width, raw.sizes.height
        except Exception:
            return None
