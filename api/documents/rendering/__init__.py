"""GB/T 9704-2012 rendering of official documents. Docs: docs/rendering.md.

``layout`` (geometry and line breaking), ``fonts`` (font roles and settings),
``render`` (``RenderInput`` → ``RenderResult``: PDF bytes, page count, seal box),
``actions`` (``store_rendering``: versioned, content-addressed storage), ``checks``
(system checks for fonts and the storage directory).
"""
