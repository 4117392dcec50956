import hashlib

from workbench.hashing import sha256_bytes, sha256_file


def test_file_and_bytes_digests_agree(tmp_path):
    data = bytes(range(256)) * 5000  # larger than one read chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path, chunk_size=1000) == sha256_bytes(data) == hashlib.sha256(data).hexdigest()
