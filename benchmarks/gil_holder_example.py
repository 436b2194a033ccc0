"""The example of docs/find-the-gil-holder.md: a service of two threads, code gilkit did not write.

"encoder" serialises a batch of records with the standard library's C JSON encoder, again and again;
"parser" parses CSV-like lines in pure Python meanwhile. The parser is slow, and nothing in it says why:
the GIL timeline's stacks do.
"""

import json
import threading

RECORDS = [{"id": i, "name": f"item-{i}", "price": i * 0.25, "tags": ["a", "b", "c"]} for i in range(60_000)]
LINES = [f"{i},item-{i},{i * 0.25},a|b|c" for i in range(5_000)]


def encode_batch(records):
    return json.dumps(records)


def split_fields(line):
    return line.split(",")


def to_number(text):
    return float(text) if "." in text else int(text)


def parse_record(line):
    ident, name, price, tags = split_fields(line)
    return {"id": to_number(ident), "name": name, "price": to_number(price), "tags": tags.split("|")}


def parse_lines(lines):
    return [parse_record(line) for line in lines]


def serve(batches):
    """The encoder encodes ``batches`` batches while the parser parses, from before the first to after the
    last; both threads joined on return."""
    parsing, done = threading.Event(), threading.Event()

    def encoder():
        parsing.wait()
        for _ in range(batches):
            encode_batch(RECORDS)
        done.set()

    def parser():
        parsing.set()
        while not done.is_set():
            parse_lines(LINES)

    threads = [threading.Thread(target=encoder, name="encoder"), threading.Thread(target=parser, name="parser")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
