-- Forget the reporting kinds of one indicator before writing its new ones.
DELETE FROM indicator_scopes WHERE indicator_code = :code
