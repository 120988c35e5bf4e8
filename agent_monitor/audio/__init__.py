"""Audio signal helpers shared by every stage: G.711 codecs and simulated line conditions."""
