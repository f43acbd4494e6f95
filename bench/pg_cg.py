"""pg_cg.py - the SQL bench/pg_cg.sh feeds a single-user PostgreSQL.

pg_cg.py extract NAME < PREPROCESSED_C
    the string constant NAME of a C file run through the preprocessor (gatewayd's accept
    statement, so that what is measured is what gatewayd sends)
pg_cg.py script STATEMENT_FILE COUNT GROUP TENANT BOT KEY SEED
    the statement prepared as gatewayd prepares it (a generic plan), then COUNT executions
    of it, each a group of GROUP messages naming their bot, to random chats of 5,000; one
    line a statement, as a single-user backend reads them
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


def group(rng, size, tenant, bot, key, first):
    """the 14 column arrays of one group, in the statement's order"""
    chats = [str(100000 + rng.randrange(5000)) for _ in range(size)]
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
    found = re.search(r"static const char " + name + r"\[\] = (.*?);\n", text, re.S)
    if found is None:
        sys.exit(f"pg_cg.py: no string constant {name} in the preprocessed file")
    pieces = re.findall(r'"(?:[^"\\]|\\.)*"', found.group(1))
    print("".join(ast.literal_eval(p) for p in pieces))


def script(path, count, size, tenant, bot, key, seed):
    count, size, seed = int(count), int(size), int(seed)
    statement = open(path).read().replace("\n", " ")
    rng = random.Random(seed)
    print("SET plan_cache_mode = force_generic_plan;")
    print(f"PREPARE accept({TYPES}) AS {statement};")
    for i in range(count):
        cols = group(rng, size, tenant, bot, key, i * size)
        print("EXECUTE accept(" + ", ".join(cols) + ");")


if len(sys.argv) == 3 and sys.argv[1] == "extract":
    extract(sys.argv[2])
elif len(sys.argv) == 9 and sys.argv[1] == "script":
    script(*sys.argv[2:9])
else:
    sys.exit(__doc__)
