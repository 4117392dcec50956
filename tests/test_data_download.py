import hashlib

import pytest

from workbench.data.download import DataUnavailableError, download, verify_sidecar


def test_download_from_loopback_server_writes_file_and_sidecar(http_server, tmp_path):
    url, root = http_server
    payload = b"smiles,p_np\nCCO,1\n" * 5000
    (root / "small.csv").write_bytes(payload)
    dest = download(
        url + "small.csv", tmp_path / "cache" / "small.csv", sha256=hashlib.sha256(payload).hexdigest(), progress=True
    )
    assert dest.read_bytes() == payload
    assert (tmp_path / "cache" / "small.csv.sha256").read_text().strip() == hashlib.sha256(payload).hexdigest()
    assert verify_sidecar(dest) == hashlib.sha256(payload).hexdigest()


def test_checksum_mismatch_is_refused_and_leaves_nothing(http_server, tmp_path):
    url, root = http_server
    (root / "small.csv").write_bytes(b"not what you expected")
    with pytest.raises(DataUnavailableError, match=r"Checksum mismatch for small\.csv"):
        download(url + "small.csv", tmp_path / "small.csv", sha256="0" * 64, progress=False)
    assert list(tmp_path.glob("*small.csv*")) == []


def test_missing_remote_file_names_file_url_and_folder(http_server, tmp_path):
    url, _root = http_server
    with pytest.raises(DataUnavailableError) as info:
        download(url + "absent.csv", tmp_path / "folder" / "absent.csv", progress=False)
    message = str(info.value)
    assert "absent.csv" in message and url in message and str(tmp_path / "folder") in message


def test_offline_gives_a_clear_message(tmp_path):
    # port 9 on loopback: nothing listens, the connection is refused as when offline
    with pytest.raises(DataUnavailableError, match=r"Could not download BBBP.csv .* save it as"):
        download("http://127.0.0.1:9/BBBP.csv", tmp_path / "BBBP.csv", progress=False, timeout=2)


def test_corrupted_cache_is_detected(http_server, tmp_path):
    url, root = http_server
    (root / "f.csv").write_text("a,b\n1,2\n")
    dest = download(url + "f.csv", tmp_path / "f.csv", progress=False)
    dest.write_text("a,b\n1,3\n")
    with pytest.raises(DataUnavailableError, match="does not match the checksum"):
        verify_sidecar(dest)
