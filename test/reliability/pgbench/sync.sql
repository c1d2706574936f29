-- sync of pool B from the emulator (syncs serialize on an advisory lock)
SELECT count(*) FROM comms_resolve.sync((SELECT v FROM rel_cfg WHERE k = 'pool_b'));
