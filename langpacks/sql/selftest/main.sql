-- Reads a name and n 64-bit integers; prints a greeting and their sum.
-- The input is in the table input(line TEXT), one row per line by rowid.
SELECT 'Hello, ' || trim(line) || '!' FROM input WHERE rowid = 1;

WITH RECURSIVE split(token, rest) AS (
    SELECT '', trim(line) || ' ' FROM input WHERE rowid = 3
    UNION ALL
    SELECT substr(rest, 1, instr(rest, ' ') - 1),
           ltrim(substr(rest, instr(rest, ' ') + 1))
    FROM split
    WHERE rest <> ''
)
SELECT sum(CAST(token AS INTEGER)) FROM split WHERE token <> '';
