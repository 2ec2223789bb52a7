# Read by the `flask` command (python-dotenv). Settings belong in .env; see .env.example.
FLASK_APP=wsgi
