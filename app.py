"""Start the dashboard: ``python app.py``, or in production ``gunicorn -c gunicorn.conf.py app:server``.

Importing this module builds the app without touching the database. The first start (the
embedded SQLite database data/dashboard.db, or DATABASE_URL, migrated and filled with the
illustrative demo province) runs in the background; pages fill in by themselves once it is done.
"""
from dashboard.webapp import create_app, main

if __name__ == "__main__":
    main()
else:
    app = create_app()
    server = app.server
