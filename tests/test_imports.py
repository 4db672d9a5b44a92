"""URL imports: rights first, one deadline, every IPv6 disguise of a private address refused,
every redirect hop and every connection checked, network failures coded."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from app.media.errors import MediaRejected
from app.media.fetch import GuardedBackend, UrlGuard, embedded_ipv4
from tests import media_files as mf
from tests.conftest import app_client, make_settings
from tests.file_server import Files, serving
from tests.graphql import add_member, register
from tests.test_assets_manage import IMPORT
from tests.workers import free_port

PRIVATE_DISGUISES = [
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "::10.1.2.3",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::",  # 6to4 of 192.168.1.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
    "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    "::1",
    "fe80::1",
    "fc00::1",
]


class TestAddresses:
    @pytest.mark.parametrize("text", PRIVATE_DISGUISES)
    def test_ipv6_forms_of_private_addresses_are_refused(self, text: str) -> None:
        assert not UrlGuard([])._admits(ipaddress.ip_address(text))

    @pytest.mark.parametrize(
        "text", ["8.8.8.8", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"]
    )
    def test_public_addresses_still_pass(self, text: str) -> None:
        assert UrlGuard([])._admits(ipaddress.ip_address(text))

    def test_embedded_addresses_are_found(self) -> None:
        assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a9fe:a9fe")) == [
            ipaddress.IPv4Address("169.254.169.254")
        ]

    @pytest.mark.parametrize("text", ["[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[::127.0.0.1]"])
    async def test_literal_disguised_hosts_in_urls_are_refused(self, text: str) -> None:
        with pytest.raises(MediaRejected, match="not a public address"):
            await UrlGuard([]).check(f"http://{text}:8080/a.png")

    async def test_the_connection_itself_is_checked_whatever_was_checked_before(self) -> None:
        """DNS rebinding: a name that resolves privately at connect time is never reached."""
        with pytest.raises(MediaRejected, match="not a public address"):
            await GuardedBackend(UrlGuard([])).connect_tcp("localhost", 9)


class TestImports:
    async def test_a_redirect_to_a_private_address_is_refused(
        self, database_url: str, tmp_path: Path
    ) -> None:
        files = Files()
        files.redirect("/hop", "http://[::ffff:10.0.0.1]/secret")
        async with app_client(
            make_settings(database_url, tmp_path, import_allowed_networks=["127.0.0.0/8"])
        ) as http:
            account = await register(http)
            with serving(files) as base:
                result = await account.gql(
                    IMPORT, {"i": {"url": f"{base}/hop", "workspaceId": account.workspace_id}}
                )
        assert result.code == "BAD_USER_INPUT"
        assert "not a public address" in result.errors[0]["message"]

    async def test_rights_are_checked_before_anything_is_fetched(
        self, database_url: str, tmp_path: Path
    ) -> None:
        files = Files()
        files.add("/a.png", mf.png(), "image/png")
        async with app_client(
            make_settings(database_url, tmp_path, import_allowed_networks=["127.0.0.0/8"])
        ) as http:
            owner, viewer = await register(http, "Owner"), await register(http, "Viewer")
            await add_member(owner, viewer, "VIEWER")
            with serving(files) as base:
                result = await viewer.gql(
                    IMPORT, {"i": {"url": f"{base}/a.png", "workspaceId": owner.workspace_id}}
                )
        assert result.code == "FORBIDDEN"
        assert files.requests == []

    async def test_network_failures_are_coded(self, database_url: str, tmp_path: Path) -> None:
        files = Files()
        files.broken("/half.mp4", mf.mp4(1))
        closed_port = free_port()  # no other worker's server can be given it meanwhile
        async with app_client(
            make_settings(database_url, tmp_path, import_allowed_networks=["127.0.0.0/8"])
        ) as http:
            account = await register(http)
            where = {"workspaceId": account.workspace_id}
            refused = await account.gql(
                IMPORT, {"i": {"url": f"http://127.0.0.1:{closed_port}/x.png", **where}}
            )
            with serving(files) as base:
                cut = await account.gql(IMPORT, {"i": {"url": f"{base}/half.mp4", **where}})
        assert refused.code == "BAD_USER_INPUT"
        assert "could not be fetched" in refused.errors[0]["message"]
        assert cut.code == "BAD_USER_INPUT"

    async def test_one_deadline_covers_the_whole_import(
        self, database_url: str, tmp_path: Path
    ) -> None:
        files = Files()
        files.slow("/slow.png", mf.png(), pause=0.05)  # every read is quick, the whole is not
        settings = make_settings(
            database_url,
            tmp_path,
            import_allowed_networks=["127.0.0.0/8"],
            import_timeout_seconds=1.0,
        )
        async with app_client(settings) as http:
            account = await register(http)
            with serving(files) as base:
                result = await account.gql(
                    IMPORT, {"i": {"url": f"{base}/slow.png", "workspaceId": account.workspace_id}}
                )
        assert result.code == "BAD_USER_INPUT"
        assert "took longer than 1 s" in result.errors[0]["message"]
