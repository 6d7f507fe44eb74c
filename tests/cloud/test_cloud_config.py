"""The mock cloud's own configuration (cloud/config.py): strict, Go-style durations, checked zones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import MockCloud
from minikube_lite.cloud.config import DEFAULT_CATEGORY_SIZES, CloudConfig, CloudFaultsConfig
from minikube_lite.config import ClusterConfig, ConfigError
from minikube_lite.configmodel import format_validation_error


def test_durations_read_go_style_and_defaults_hold() -> None:
    config = CloudConfig.model_validate({"durations": {"createDisk": "1m30s", "attachDisk": "500ms"}})
    assert config.durations.createDisk == 90.0
    assert config.durations.attachDisk == 0.5
    assert config.durations.deleteDisk == 1.0
    assert config.categories == DEFAULT_CATEGORY_SIZES


def test_unknown_keys_and_bad_values_name_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        CloudConfig.model_validate({"quotas": {"disksPerZon": 3}, "faults": {"errorRates": {"CreateDisk": 2}}})
    message = format_validation_error(err.value)
    assert "quotas.disksPerZon: unknown field" in message
    assert "errorRates.CreateDisk: rate 2.0 must be between 0 and 1" in message


def test_a_zone_listed_twice_is_refused_across_regions() -> None:
    with pytest.raises(ValidationError, match='zone "cn-hangzhou-b" is listed twice'):
        CloudConfig(zones=["cn-hangzhou-b"], otherRegions={"cn-beijing": ["cn-hangzhou-b"]})


def test_zone_region_knows_other_regions() -> None:
    config = CloudConfig(otherRegions={"cn-beijing": ["cn-beijing-a"]})
    assert config.zone_region("cn-hangzhou-d") == "cn-hangzhou"
    assert config.zone_region("cn-beijing-a") == "cn-beijing"


def test_the_cluster_file_embeds_the_cloud_section() -> None:
    config = ClusterConfig.from_yaml("cloud: {durations: {createDisk: 3s}, faults: {zoneOutages: [cn-hangzhou-d]}}\n")
    assert config.cloud.durations.createDisk == 3.0
    cloud = MockCloud.for_cluster(config, VirtualClock())
    assert cloud.faults.zone_outages == {"cn-hangzhou-d"}
    with pytest.raises(ConfigError, match="cloud.durations.createDisk: .*invalid duration"):
        ClusterConfig.from_yaml("cloud: {durations: {createDisk: soon}}\n")


def test_faults_body_has_the_config_keys() -> None:
    faults = CloudFaultsConfig.model_validate({"script": [{"operation": "CreateDisk", "times": 2}]})
    assert faults.script[0].code == "InternalError" and faults.script[0].times == 2
