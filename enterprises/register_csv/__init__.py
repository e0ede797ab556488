"""The register as a CSV file: reading an import (every row checked, each error named by row
and column, nothing saved) and writing the export (streamed).

The file is what Excel in Sweden reads and writes: UTF-8 (a byte order mark is welcome),
semicolons or commas between the cells (whichever the header row uses), a header row naming
the columns in Swedish (or by their English keys). The columns are listed in the README,
"The ASF register", and in `columns.COLUMNS`.
"""

from .cells import RowError
from .columns import BOM, COLUMNS, Column
from .reading import FileError, ImportPreview, Row, decode, read_import
from .writing import export_columns, stream_export

__all__ = [
    "BOM",
    "COLUMNS",
    "Column",
    "FileError",
    "ImportPreview",
    "Row",
    "RowError",
    "decode",
    "export_columns",
    "read_import",
    "stream_export",
]
