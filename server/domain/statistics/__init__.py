"""Contact records and the statistics built from them: ISO weeks, duration buckets, the record
value object, the mapping rules from config, and suppressed tables. Pure; no I/O."""
