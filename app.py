"""Start the dashboard: ``python app.py`` (or ``gunicorn app:server``).

On first start the embedded SQLite database (data/dashboard.db, or DATABASE_URL) is
created and filled with the illustrative demo province.
"""
from dashboard.webapp import create_app, main

if __name__ == "__main__":
    main()
else:
    app = create_app()
    server = app.server
