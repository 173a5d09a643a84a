process.stderr.write('sim: the simulator is not built yet (it arrives with the core engine issue)\n');
process.exitCode = 3;
