"""The ApplySet labels and parent (model.applyset): IDs, member labels, refusing other tools' sets."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError
from calicotool.model import applyset
from calicotool.model.applyset import ApplySetRef, ParentState, parse_ref
from calicotool.model.resource import Resource


def test_id_depends_on_every_part_of_the_parent_and_is_a_label_value() -> None:
    base = ApplySetRef("Secret", "shop", "default")
    others = [ApplySetRef("ConfigMap", "shop", "default"), ApplySetRef("Secret", "shop2", "default"),
              ApplySetRef("Secret", "shop", "prod")]
    assert len({base.id, *(o.id for o in others)}) == 4
    assert base.id.startswith("applyset-") and base.id.endswith("-v1") and len(base.id) <= 63
    assert "=" not in base.id and "+" not in base.id and "/" not in base.id  # URL-safe, unpadded


@pytest.mark.parametrize(("text", "kind", "name"), [("shop", "Secret", "shop"), ("secret/shop", "Secret", "shop"),
                                                    ("configmaps/x.y", "ConfigMap", "x.y")])
def test_parse_ref(text: str, kind: str, name: str) -> None:
    ref = parse_ref(text, "ns1")
    assert (ref.kind, ref.name, ref.namespace) == (kind, name, "ns1")


@pytest.mark.parametrize("text", ["deployments/shop", "secret/", "Shop", "a/b/c"])
def test_parse_ref_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_ref(text, "default")


def gns(name: str, labels: dict[str, str] | None = None) -> Resource:
    return Resource.new("GlobalNetworkSet", name, {"nets": ["192.0.2.0/24"]}, labels=labels)


def test_label_members_adds_the_label_and_refuses_another_sets() -> None:
    ref = ApplySetRef("Secret", "shop", "default")
    original = gns("a", {"team": "x"})
    [labelled] = applyset.label_members([original], ref)
    assert labelled.labels == {"team": "x", applyset.PART_OF_LABEL: ref.id} and original.labels == {"team": "x"}
    assert applyset.member_of(labelled, ref) and not applyset.member_of(original, ref)
    assert applyset.label_members([labelled], ref)[0].labels == labelled.labels  # already this set's: fine
    other = ApplySetRef("Secret", "billing", "default")
    with pytest.raises(InputError, match="one ApplySet only"):
        applyset.label_members([gns("b", {applyset.PART_OF_LABEL: other.id})], ref)


def parent(ref: ApplySetRef, tooling: str = "calicotool/v0.1.0", set_id: str | None = None,
           kinds: str = "Tier.projectcalico.org") -> dict[str, object]:
    return {"metadata": {"name": ref.name, "namespace": ref.namespace, "labels": {applyset.ID_LABEL: set_id or ref.id},
                         "annotations": {applyset.TOOLING_ANNOTATION: tooling,
                                         applyset.GROUP_KINDS_ANNOTATION: kinds}}}


def test_read_parent_refuses_what_is_not_ours() -> None:
    ref = ApplySetRef("Secret", "shop", "default")
    assert applyset.read_parent(None, ref) is None
    assert applyset.read_parent(parent(ref), ref) == ParentState(frozenset({"Tier.projectcalico.org"}))
    assert applyset.read_parent(parent(ref, kinds=""), ref) == ParentState()
    with pytest.raises(InputError, match="managed by 'kubectl'"):
        applyset.read_parent(parent(ref, tooling="kubectl/v1.36.2"), ref)
    with pytest.raises(InputError, match="the ID the spec derives"):
        applyset.read_parent(parent(ref, set_id=ApplySetRef("Secret", "x", "default").id), ref)
    with pytest.raises(InputError, match="not an ApplySet parent"):
        applyset.read_parent({"metadata": {"name": "shop", "labels": {}}}, ref)


def test_parent_document_keeps_others_metadata_and_sorts() -> None:
    ref = ApplySetRef("Secret", "shop", "default")
    current = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": "shop", "namespace": "default", "resourceVersion": "7",
                            "labels": {"keep": "me"},
                            "annotations": {"note": "x", applyset.NAMESPACES_ANNOTATION: "old"}}}
    state = applyset.state_of(["Tier.projectcalico.org", "GlobalNetworkSet.projectcalico.org"],
                              ["default", "shop", "", "monitoring"], ref)
    doc = applyset.parent_document(ref, state, "0.1.0", current)
    meta = doc["metadata"]
    assert meta["resourceVersion"] == "7" and doc["type"] == "Opaque"  # a CAS on what was read
    assert meta["labels"] == {"keep": "me", applyset.ID_LABEL: ref.id}
    assert meta["annotations"] == {
        "note": "x", applyset.TOOLING_ANNOTATION: "calicotool/v0.1.0",
        applyset.GROUP_KINDS_ANNOTATION: "GlobalNetworkSet.projectcalico.org,Tier.projectcalico.org",
        applyset.NAMESPACES_ANNOTATION: "monitoring,shop"}  # sorted; the parent's own namespace is implied
    assert applyset.parent_differs(current, doc) and not applyset.parent_differs(doc, doc)
    empty = applyset.parent_document(ref, ParentState(), "0.1.0", doc)
    assert applyset.NAMESPACES_ANNOTATION not in empty["metadata"]["annotations"]
    assert empty["metadata"]["annotations"][applyset.GROUP_KINDS_ANNOTATION] == ""
