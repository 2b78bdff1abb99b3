-- Every prepared map layer goes before they are prepared again (one transaction).
DELETE FROM boundary_layers
