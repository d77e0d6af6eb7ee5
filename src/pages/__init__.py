"""The pages on this computer: one hardened HTTP server (page_server.py), the drawing page
(draw_server.py, draw/) and the live-training page (watch_training.py, watch/), each server
beside the HTML, CSS and JavaScript it serves."""
