"""pg_cg.py - the SQL bench/pg_cg.sh feeds a single-user PostgreSQL.

pg_cg.py extract NAME < PREPROCESSED_C
    the string constant NAME of a C file run through the preprocessor (gatewayd's accept
    statement, so that what is measured is what gatewayd sends)
pg_cg.py script STATEMENT_FILE COUNT GROUP TENANT BOT KEY SEED [CHATS]
    the statement prepared as gatewayd prepares it (a generic plan), then COUNT executions
    of it, each a group of GROUP messages naming their bot, to random chats of CHATS
    (5,000); one line a statement, as a single-user backend reads them
pg_cg.py claimfn STATEMENT_FILE
    senderd's claim statement as a function, cg_claim(bots, ns, afters): it claims, keeps
    the ids claimed for cg_ids and returns their count (a claim's rows feed the records
    that follow it, which a script of statements cannot pass on otherwise)
pg_cg.py drain STATEMENT_FILE COUNT BOTS N RECORD
    senderd's record statement prepared (a generic plan), then COUNT steps of a drain: a
    claim of N messages for each of the bots BOTS (ids, comma separated), then their
    transitions to 'sent' recorded in groups of RECORD, as senderd's lanes and its record
    connection do
"""
import ast
import random
import re
import sys

TYPES = ("int[], bigint[], bigint[], text[], text[], jsonb[], smallint[], timestamptz[],"
         " int[], text[], text[], text[], jsonb[], bigint[]")


def literal(values):
    """a text array literal of already quoted or bare elements, as a SQL string"""
    return "'{" + ",".join(values) + "}'"


def group(rng, size, tenant, bot, key, first, nchats):
    """the 14 column arrays of one group, in the statement's order"""
    chats = [str(100000 + rng.randrange(nchats)) for _ in range(size)]
    params = ['"{\\"chat_id\\": %s, \\"text\\": \\"bench message %d\\"}"' % (c, first + i)
              for i, c in enumerate(chats)]
    return [literal(str(i) for i in range(size)), literal([str(tenant)] * size),
            literal([str(bot)] * size), literal(chats), literal(["sendMessage"] * size),
            literal(params), literal(["1"] * size), literal(["NULL"] * size),
            literal(["0"] * size), literal(["NULL"] * size), literal(["NULL"] * size),
            literal(["NULL"] * size), literal(["NULL"] * size), literal([str(key)] * size)]


def extract(name):
    """the concatenated literals of `static const char NAME[] = ...;` on stdin"""
    text = sys.stdin.read()
    found = re.search(r"static const char " + name + r"\[\] =\s*(.*?);\n", text, re.S)
    if found is None:
        sys.exit(f"pg_cg.py: no string constant {name} in the preprocessed file")
    pieces = re.findall(r'"(?:[^"\\]|\\.)*"', found.group(1))
    print("".join(ast.literal_eval(p) for p in pieces))


def script(path, count, size, tenant, bot, key, seed, nchats=5000):
    count, size, seed, nchats = int(count), int(size), int(seed), int(nchats)
    statement = open(path).read().replace("\n", " ")
    rng = random.Random(seed)
    print("SET plan_cache_mode = force_generic_plan;")
    print(f"PREPARE accept({TYPES}) AS {statement};")
    for i in range(count):
        cols = group(rng, size, tenant, bot, key, i * size, nchats)
        print("EXECUTE accept(" + ", ".join(cols) + ");")


CLAIM_FN = """CREATE FUNCTION cg_claim(bigint[], int[], text[]) RETURNS int
LANGUAGE plpgsql AS $cg$
DECLARE
    cg_row record;
    cg_got bigint[] := '{}';
BEGIN
    FOR cg_row IN %s LOOP
        IF cg_row.id IS NOT NULL THEN
            cg_got := cg_got || cg_row.id;
        END IF;
    END LOOP;
    PERFORM set_config('cg.ids', cg_got::text, false);
    RETURN cardinality(cg_got);
END $cg$;
CREATE FUNCTION cg_ids(first int, size int) RETURNS bigint[] LANGUAGE plpgsql AS
    $$ BEGIN RETURN (current_setting('cg.ids')::bigint[])[first:first + size - 1]; END $$;
CREATE FUNCTION cg_fill(v text, size int) RETURNS text[] LANGUAGE plpgsql AS
    $$ BEGIN RETURN array_fill(v, ARRAY[size]); END $$;
"""


def claimfn(path):
    print(CLAIM_FN % open(path).read().replace("\n", " "))


def drain(path, count, bots, n, size):
    count, n, size = int(count), int(n), int(size)
    bots = bots.split(",")
    print("SET plan_cache_mode = force_generic_plan;")
    print("PREPARE record(bigint[], text[], text[], bigint[], bigint[]) AS "
          + open(path).read().replace("\n", " ") + ";")
    claim = ("SELECT cg_claim('{%s}', '{%s}', '{%s}');"
             % (",".join(bots), ",".join([str(n)] * len(bots)), ",".join(["NULL"] * len(bots))))
    for _ in range(count):
        print(claim)
        for first in range(1, n * len(bots) + 1, size):
            part = f"{first}, {size}"
            print(f"EXECUTE record(cg_ids({part}), cg_fill('sent', {size}), "
                  f"cg_fill(NULL, {size}), cg_fill('1', {size})::bigint[], "
                  f"cg_fill('0', {size})::bigint[]);")


if len(sys.argv) == 3 and sys.argv[1] == "extract":
    extract(sys.argv[2])
elif len(sys.argv) in (9, 10) and sys.argv[1] == "script":
    script(*sys.argv[2:])
elif len(sys.argv) == 3 and sys.argv[1] == "claimfn":
    claimfn(sys.argv[2])
elif len(sys.argv) == 7 and sys.argv[1] == "drain":
    drain(*sys.argv[2:7])
else:
    sys.exit(__doc__)
