from stridewatch.cli import app

app(prog_name="stridewatch")
