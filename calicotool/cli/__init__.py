"""Thin Typer layer: parse options, call one function, render the result. Owns exit codes."""
