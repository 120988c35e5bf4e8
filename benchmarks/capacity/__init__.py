"""The capacity benchmark's parts (``benchmarks/bench_live.py`` is the command).

- :mod:`.keepup`: what "kept up" means, the search over N, the statistics (pure, tested);
- :mod:`.calls`: the call sets: the real SpokenWOZ call, dense SYNTHETIC prodigal dialogues;
- :mod:`.server`: ``agent-monitor serve`` in a child process (workers, CPU pinning, cluster env);
- :mod:`.run`: N calls streamed in real time against one or more nodes, measured;
- :mod:`.report`: one run's lines;
- :mod:`.cluster`: redis-server and a throw-away PostgreSQL database for the 2-node part;
- :mod:`.peer`: alphacep/vosk-server fed the same legs.
"""
