"""The table of connections the workers hold (api/worker_balance.py): what a worker compares
itself with before it takes a new connection."""

import os

from api.worker_balance import Shares


def test_a_worker_compares_itself_with_the_least_busy_running_worker() -> None:
    shares = Shares(3)
    first, second = shares.claim(owner=1), shares.claim(owner=2)
    assert (first, second) == (0, 1)
    shares.publish(0, 9)
    shares.publish(1, 4)
    # The third slot has no worker: it holds nothing back.
    assert shares.fewest() == 4


def test_the_slot_of_a_worker_that_exited_goes_to_its_successor_with_no_connections() -> None:
    shares = Shares(2)
    shares.claim(owner=1)
    shares.claim(owner=2)
    shares.publish(0, 7)
    shares.publish(1, 3)
    shares.release(owner=2)
    assert shares.fewest() == 7  # a worker that is gone does not make the other wait
    assert shares.claim(owner=3) == 1
    assert shares.fewest() == 0
    # More workers than slots (gunicorn's TTIN): the extra one takes connections unbalanced.
    assert shares.claim(owner=4) is None


def test_the_table_is_shared_with_forked_workers() -> None:
    shares = Shares(2)
    shares.claim(owner=1)
    slot = shares.claim(owner=2)
    assert slot is not None
    child = os.fork()
    if child == 0:  # the worker: publish and leave at once
        shares.publish(slot, 5)
        shares.publish(0, 8)
        os._exit(0)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert shares.fewest() == 5
