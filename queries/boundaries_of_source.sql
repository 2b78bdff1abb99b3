-- Every boundary of one level that came from one import (one coverage, simplified together).
-- Parameters: level, source
SELECT code, geometry FROM boundaries WHERE level = :level AND source = :source ORDER BY code
