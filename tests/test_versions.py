"""PEP 440 -> conda version spec translation, checked against py-rattler's strict parser.

The property tests compare, for generated specifier sets and candidate versions,
packaging's verdict with conda's verdict on the translated spec.  Candidates are
spelled the way conda channels spell them (normalized PEP 440).  The domain is
the one README.md promises; the divergences outside it are pinned by
``test_documented_divergences`` so the README cannot go stale silently.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from rattler import Version as CondaVersion
from rattler import VersionSpec

from conda_source.errors import UntranslatableSpecifierError
from conda_source.mapping.versions import translate_specifier_set

PARTS = st.sampled_from([0, 0, 1, 2, 3, 10])


def releases(length: int | None = None) -> st.SearchStrategy[tuple[int, ...]]:
    sizes = {"min_size": length, "max_size": length} if length else {"min_size": 1, "max_size": 4}
    return st.lists(PARTS, **sizes).map(tuple)


@st.composite
def versions(
    draw: st.DrawFn,
    release: tuple[int, ...] | None = None,
    epoch: bool = False,
    pre: bool = True,
    post: bool = True,
    dev: bool = True,
    local: bool = False,
) -> Version:
    parts = release if release is not None else draw(releases())
    text = ("1!" if epoch else "") + ".".join(map(str, parts))
    if pre and draw(st.integers(0, 2)) == 0:
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(st.integers(0, 2)))
    if post and draw(st.integers(0, 2)) == 0:
        text += f".post{draw(st.integers(0, 2))}"
    if dev and draw(st.integers(0, 3)) == 0:
        text += f".dev{draw(st.integers(0, 2))}"
    if local and draw(st.integers(0, 3)) == 0:
        text += "+" + draw(st.sampled_from(["cpu", "1", "cu12.1"]))
    return Version(text)


@st.composite
def specifier_sets(draw: st.DrawFn, length: int | None, post: bool) -> SpecifierSet:
    """1-3 specifiers; their versions have ``length`` release parts when given."""
    clauses = []
    epoch = draw(st.integers(0, 9)) == 0
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        ops = ["==", "!=", "<", "<=", ">", ">=", "==*", "!=*"] + (["~="] if length != 1 else [])
        op = draw(st.sampled_from(ops))
        release = draw(releases(length))
        if op == "~=" and len(release) < 2:
            release = (*release, 0)
        if op.endswith("*"):
            version = draw(versions(release, epoch, pre=False, post=False, dev=False))
            clauses.append(f"{op[:2]}{version}.*")
        else:
            clauses.append(f"{op}{draw(versions(release, epoch, post=post, local=op in ('==', '!=')))}")
    return SpecifierSet(",".join(clauses))


def near(data: st.DataObject, specifiers: SpecifierSet, length: int | None) -> tuple[tuple[int, ...], bool]:
    """A release and epoch for a candidate: usually a bound's own, where the edge cases are."""
    bounds = [Version(s.version.removesuffix(".*")) for s in specifiers]
    if data.draw(st.integers(0, 3)) > 0:
        bound = data.draw(st.sampled_from(bounds))
        return bound.release, bound.epoch != 0
    return data.draw(releases(length)), data.draw(st.integers(0, 9)) == 0


def conda_verdict(specifiers: SpecifierSet, candidate: Version) -> bool:
    translated = translate_specifier_set(specifiers, "pkg").spec
    assert translated is not None
    return VersionSpec(translated, strict=True).matches(CondaVersion(str(candidate)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), length=st.integers(1, 4))
def test_same_length_candidates_agree_with_packaging(data: st.DataObject, length: int) -> None:
    """Finals, pre- and post-releases written with as many release parts as the bounds."""
    specifiers = data.draw(specifier_sets(length, post=True))
    release, epoch = near(data, specifiers, length)
    candidate = data.draw(versions(release, epoch, dev=False))
    assert conda_verdict(specifiers, candidate) == specifiers.contains(candidate, prereleases=True)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_final_candidates_of_any_length_agree_with_packaging(data: st.DataObject) -> None:
    """Final releases of any length against bounds of any length (bounds without .post)."""
    specifiers = data.draw(specifier_sets(None, post=False))
    release, epoch = near(data, specifiers, None)
    if data.draw(st.booleans()):  # the same release written longer or shorter
        release = (*release, 0) if data.draw(st.booleans()) else release[:-1] or release
    candidate = data.draw(versions(release, epoch, pre=False, post=False, dev=False))
    assert conda_verdict(specifiers, candidate) == specifiers.contains(candidate, prereleases=True)


@pytest.mark.parametrize(
    ("pep440", "conda"),
    [
        pytest.param("", None, id="no-specifier"),
        pytest.param(">=1.26,<2", ">=1.26,<2dev0", id="upper-bound-excludes-prereleases"),
        pytest.param("<2.0", "<2.0dev0", id="less-than-final"),
        pytest.param("<2.0rc1", "<2.0rc1", id="less-than-prerelease"),
        pytest.param("<1.0.post1", "<1.0.post1dev0", id="less-than-post"),
        pytest.param(">1.0", ">1.0,!=1.0.post*", id="greater-than-excludes-posts"),
        pytest.param(">1.0.post1", ">1.0.post1", id="greater-than-post"),
        pytest.param(">1.0.dev1", ">1.0dev1", id="greater-than-dev"),
        pytest.param(">=1.0.dev3", ">=1.0dev3", id="dev-attached-in-bounds"),
        pytest.param("==1.0.dev3", "==1.0.dev3", id="dev-kept-dotted-in-equality"),
        pytest.param("~=1.4.2", ">=1.4.2,1.4.*", id="compatible-three-parts"),
        pytest.param("~=2.2", ">=2.2,2.*", id="compatible-two-parts"),
        pytest.param("~=1!2.2", ">=1!2.2,1!2.*", id="compatible-epoch"),
        pytest.param("==1.2.*", "1.2.*", id="wildcard"),
        pytest.param("!=1.2.*", "!=1.2.*", id="not-wildcard"),
        pytest.param("==1!2.0", "==1!2.0", id="epoch"),
        pytest.param("==1.0+cu12.1", "==1.0+cu12.1", id="local"),
        pytest.param("<=1.0.post1", "<=1.0.post1", id="less-equal-post"),
        pytest.param(">=1.4.2,==1.4.*", ">=1.4.2,1.4.*", id="design-md-example"),
        pytest.param("!=2.2.0,>=2.1", ">=2.1,!=2.2.0", id="reading-order"),
    ],
)
def test_translation_table(pep440: str, conda: str | None) -> None:
    result = translate_specifier_set(SpecifierSet(pep440), f"pkg{pep440}")
    assert result.spec == conda
    assert result.notes == ()
    if conda is not None:
        VersionSpec(conda, strict=True)  # the strict parser accepts every translation


def test_design_example_matches_what_pep440_matches() -> None:
    # Non-strict parsing of the naive '>=1.4.2,==1.4.*' matches nothing; ours keeps 1.4.x >= 1.4.2.
    spec = VersionSpec(translate_specifier_set(SpecifierSet(">=1.4.2,==1.4.*"), "x").spec or "", strict=True)
    assert [v for v in ("1.4.1", "1.4.2", "1.4.9", "1.5.0") if spec.matches(CondaVersion(v))] == ["1.4.2", "1.4.9"]


def test_arbitrary_equality_becomes_exact_match_with_a_note() -> None:
    result = translate_specifier_set(SpecifierSet("===1.0.post1"), "legacy===1.0.post1")
    assert result.spec == "==1.0.post1"
    assert result.notes == (
        "'===1.0.post1' (string equality) has no conda equivalent; translated to the exact version match '==1.0.post1'",
    )


def test_arbitrary_equality_on_a_non_version_is_refused() -> None:
    with pytest.raises(UntranslatableSpecifierError) as caught:
        translate_specifier_set(SpecifierSet("===foobar"), "legacy===foobar")
    assert str(caught.value) == (
        "cannot translate '===foobar' of requirement 'legacy===foobar': conda has no string equality "
        "and this is not a version; pin a real version with '==' or override the mapping"
    )


@pytest.mark.parametrize(
    ("pep440", "candidate", "pep440_verdict"),
    [
        pytest.param(">=1.0a1", "1.0.dev1", False, id="dev-candidate-sorts-after-prereleases"),
        pytest.param(">=1.0", "1.0+cpu", True, id="local-candidate-sorts-below-public"),
        pytest.param("==1.0", "1.0+cpu", True, id="local-candidate-not-equal"),
        pytest.param(">=2.0.0rc1", "2.0rc2", True, id="prerelease-of-other-length"),
        pytest.param(">=1.0.post1", "1.0.0.1", True, id="post-bound-vs-longer-final"),
        pytest.param("===1.0", "1.0.0", False, id="arbitrary-equality-is-version-equality"),
    ],
)
def test_documented_divergences(pep440: str, candidate: str, pep440_verdict: bool) -> None:
    """Each divergence README.md lists is real: conda disagrees with PEP 440 here."""
    specifiers = SpecifierSet(pep440)
    assert specifiers.contains(candidate, prereleases=True) is pep440_verdict
    assert conda_verdict(specifiers, Version(candidate)) is not pep440_verdict
