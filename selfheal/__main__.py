from selfheal.cli import command

command()
