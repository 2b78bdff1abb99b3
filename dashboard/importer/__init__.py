"""Import CSV and Excel files into the KPI tables, all or nothing.

One job per module, so that the next importers (wide Excel workbooks, DHIS2) fit beside
this one and go through the same checks and the same loader:

* ``formats``  the five file formats: columns, keys, code and count columns;
* ``cells``    reading one cell: text, codes, numbers, counts, months, dates, booleans;
* ``readers``  CSV and .xlsx files to a stream of rows (with the guards against bad files);
* ``known``    what the database holds, loaded once per import; "did you mean" hints;
* ``checks``   per-kind row checks (units, facilities, indicators, targets);
* ``values``   the values check at national scale (streamed, column-wise);
* ``names``    units by the name people write, periods in the spellings they use;
* ``dhis2``    DHIS2 dataValueSets (JSON, CSV) in and out through a mapping;
* ``wide``     reports shaped for people (wide workbooks) read into long rows;
* ``crosswalk`` old units → new units across the 2025 reform (``dashboard import crosswalk``);
* ``load``     the one all-or-nothing loader (counts, audit, history of replaced rows);
* ``report``   Issue, FileResult, ImportReport and the progress hooks;
* ``pipeline`` ``import_files``: read, check, load.

The formats and rules are documented in ``docs/data-formats.md``.
"""
from __future__ import annotations

from .formats import (CODE_COLUMNS, CODE_LIMIT, COUNT_COLUMNS, DEFAULT_SCOPE, ENTITY_KINDS, FACILITY_TYPES, FORMATS,
                      KINDS, LEVEL_ORDER, NUMBER_FORMATS, UNIT_LEVELS, Format)
from .pipeline import LAYOUTS, import_files
from .dhis2 import Dhis2Mapping, export_dhis2
from .wide import Mapping
from .wide import Options as WideOptions
from .report import FileResult, ImportProgress, ImportReport, Issue, both

__all__ = ["CODE_COLUMNS", "CODE_LIMIT", "COUNT_COLUMNS", "DEFAULT_SCOPE", "ENTITY_KINDS", "FACILITY_TYPES",
           "FORMATS", "KINDS", "LEVEL_ORDER", "NUMBER_FORMATS", "UNIT_LEVELS", "Format", "import_files",
           "FileResult", "ImportProgress", "ImportReport", "Issue", "both", "LAYOUTS", "Mapping", "WideOptions", "Dhis2Mapping",
           "export_dhis2"]
