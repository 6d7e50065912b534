"""ganlab serve without a browser: the queries the page sends, and the answers to bad ones."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from ganlab.explore.common import load_explorer
from ganlab.explore.serve import BadRequest, LiveGenerator, make_server


@pytest.fixture(scope="module")
def live(explore_run):
    return LiveGenerator(load_explorer(explore_run))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def q(**params) -> dict[str, list[str]]:
    return {k: [str(v)] for k, v in params.items()}


def test_generate_is_the_seeded_sample_and_moves_with_t_and_noise(live):
    ex = live.ex
    image = pixels(live.png(q(**{"class": 4, "seed": 7, "size": 8})))
    expected = ex.render(ex.latents([7]).cpu(), ex.codes([4]).cpu())[0, 0].numpy()
    assert image.shape == (8, 8) and np.abs(image.astype(int) - expected).max() <= 1
    z = ",".join(f"{v:.6f}" for v in live.latent(7))
    assert np.abs(pixels(live.png(q(**{"class": 4, "z": z, "size": 8}))).astype(int) - expected).max() <= 1
    end = ex.render(ex.latents([9]).cpu(), ex.codes([1]).cpu())[0, 0].numpy()
    at_one = pixels(live.png(q(**{"class": 4, "seed": 7, "seed_b": 9, "class_b": 1, "t": 1, "size": 8})))
    assert np.abs(at_one.astype(int) - end).max() <= 1
    for noise in ({"eps": 1.0}, {"label_eps": 1.0}):
        assert not np.array_equal(pixels(live.png(q(**{"class": 4, "seed": 7, "size": 8, **noise}))), image)
    assert pixels(live.png(q(**{"class": 4, "seed": 7}))).shape == (256, 256)


@pytest.mark.parametrize("params, message", [({"class": 10}, "out of range"), ({"z": "1,2"}, "takes 8"),
                                             ({"seed": "x"}, "not a int"), ({"size": 5000}, "size"),
                                             ({"t": 0.5, "seed_b": 1, "method": "cubic"}, "method")])
def test_bad_queries_are_refused(live, params, message):
    with pytest.raises(BadRequest, match=message):
        live.png(q(**params))


def test_http_answers(explore_run):
    server = make_server(explore_run, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        info = json.loads(urllib.request.urlopen(url + "/info").read())
        assert info["z_dim"] == 8 and info["num_classes"] == 10 and info["label_dim"] == 5
        assert b"ganlab explorer" in urllib.request.urlopen(url + "/").read()
        assert len(json.loads(urllib.request.urlopen(url + "/latent?seed=3").read())) == 8
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(url + "/generate?class=99")
        assert bad.value.code == 400 and b"out of range" in bad.value.read()
    finally:
        server.shutdown()
        server.server_close()
