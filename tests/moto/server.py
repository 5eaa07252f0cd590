"""moto server for sandboxc's emulator tests, with two fixes of moto 5.2.5's CloudFormation
parsing, so that the templates sandboxc writes deploy byte for byte as they are:

- AWS::KMS::Key Tags arrive in CloudFormation's form [{"Key", "Value"}]; moto's KMS backend
  reads [{"TagKey", "TagValue"}] and crashes (KeyError 'TagKey').
- AWS::SSM::Parameter Tags arrive as CloudFormation's {key: value} map; moto's SSM backend
  reads a list of {"Key", "Value"} and crashes.

- AWS::EC2::RouteTable and AWS::EC2::VPCEndpoint have no CloudFormation deletion in moto, so
  deleting a stack fails on its VPC ("has dependencies"); they get one, calling moto's own
  DeleteRouteTable (after dropping its subnet associations) and DeleteVpcEndpoints.

- Resource import: moto executes an IMPORT change set like an update, creating the resources
  again ("already exists"). Here an IMPORT change set adopts the existing log groups, buckets
  (found by the names its template gives) and KMS keys (by the KeyId its ResourcesToImport give)
  into the stack instead, and
  AWS::Logs::LogGroup gets the CloudFormation update moto lacks (without it, the update that
  follows an import loses the log group from the stack).

Nothing else is changed. Usage: python tests/moto/server.py -H 127.0.0.1 -p PORT
"""
import copy
import sys

from moto.cloudformation.models import ChangeSet
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpcs import VPCEndPoint
from moto.kms.models import Key
from moto.logs.models import LogGroup
from moto.ssm.models import Parameter


def _fix(args, kwargs, transform):
    """Returns args/kwargs with the resource JSON's Properties.Tags transformed."""
    args = list(args)
    for i, a in enumerate(args):
        if isinstance(a, dict) and "Properties" in a:
            args[i] = transform(copy.deepcopy(a))
    if isinstance(kwargs.get("cloudformation_json"), dict):
        kwargs["cloudformation_json"] = transform(copy.deepcopy(kwargs["cloudformation_json"]))
    return args, kwargs


def _kms(resource):
    tags = resource["Properties"].get("Tags")
    if isinstance(tags, list):
        resource["Properties"]["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags if "Key" in t]
    return resource


def _ssm(resource):
    tags = resource["Properties"].get("Tags")
    if isinstance(tags, dict):
        resource["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return resource


def _wrap(cls, name, transform):
    original = getattr(cls, name).__func__

    def wrapper(klass, *args, **kwargs):
        args, kwargs = _fix(args, kwargs, transform)
        return original(klass, *args, **kwargs)

    setattr(cls, name, classmethod(wrapper))


for method in ("create_from_cloudformation_json", "update_from_cloudformation_json"):
    if hasattr(Key, method):
        _wrap(Key, method, _kms)
    if hasattr(Parameter, method):
        _wrap(Parameter, method, _ssm)

def _delete_route_table(cls, resource_name, cloudformation_json, account_id, region_name):
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region_name]
    table = backend.route_tables.get(resource_name)
    if table is not None:
        table._associations.clear()
        backend.delete_route_table(resource_name)


def _delete_vpc_endpoint(cls, resource_name, cloudformation_json, account_id, region_name):
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region_name]
    endpoint = backend.vpc_end_points.get(resource_name)
    if endpoint is not None and endpoint.route_table_ids:
        # A gateway endpoint's routes go with route tables deleted before it.
        endpoint.route_table_ids = [t for t in endpoint.route_table_ids if t in backend.route_tables]
    backend.delete_vpc_endpoints([resource_name])
    backend.vpc_end_points.pop(resource_name, None)


RouteTable.delete_from_cloudformation_json = classmethod(_delete_route_table)
VPCEndPoint.delete_from_cloudformation_json = classmethod(_delete_vpc_endpoint)

# ResourcesToImport of each IMPORT change set, by change set name: moto does not keep them,
# and a KMS key's identifier (KeyId) is not a property of its template entry.
_IMPORTS = {}

from moto.cloudformation.responses import CloudFormationResponse

_original_create_change_set = CloudFormationResponse.create_change_set


def _create_change_set(self):
    if self._get_param("ChangeSetType") == "IMPORT":
        _IMPORTS[self._get_param("ChangeSetName")] = self._get_param("ResourcesToImport", [])
    return _original_create_change_set(self)


CloudFormationResponse.create_change_set = _create_change_set


def _identifier(change_set_name, logical_id, key):
    """The value of `key` in the ResourceIdentifier the change set gave for `logical_id`."""
    for entry in _IMPORTS.get(change_set_name, []):
        if entry.get("LogicalResourceId") != logical_id:
            continue
        identifier = entry.get("ResourceIdentifier", {})
        if isinstance(identifier, dict):
            if key in identifier:
                return identifier[key]
            for item in identifier.values() if all(isinstance(v, dict) for v in identifier.values()) else []:
                if item.get("key") == key:
                    return item.get("value")
        elif isinstance(identifier, list):
            for item in identifier:
                if item.get("key") == key:
                    return item.get("value")
    return None


def _existing(resource, account_id, region_name, key_id=None):
    """The moto object an imported resource names, or None."""
    kind = resource.get("Type")
    properties = resource.get("Properties", {})
    if kind == "AWS::KMS::Key":
        from moto.kms.models import kms_backends

        return kms_backends[account_id][region_name].keys.get(key_id) if key_id else None
    if kind == "AWS::Logs::LogGroup":
        from moto.logs.models import logs_backends

        return logs_backends[account_id][region_name].groups.get(properties.get("LogGroupName"))
    if kind == "AWS::S3::Bucket":
        from moto.s3.models import s3_backends

        return s3_backends[account_id]["aws"].buckets.get(properties.get("BucketName"))
    return None


_original_apply = ChangeSet.apply


def _apply(self):
    if self.change_set_type != "IMPORT":
        return _original_apply(self)
    from moto.cloudformation.exceptions import ValidationError

    resource_map = self.stack.resource_map
    account_id, region_name = resource_map._account_id, resource_map._region_name
    resources = self.template_dict.get("Resources", {})
    for logical_id, resource in resources.items():
        key_id = _identifier(self.change_set_name, logical_id, "KeyId")
        existing = _existing(resource, account_id, region_name, key_id)
        if existing is None:
            raise ValidationError(message=f"Resource {logical_id} to import does not exist")
        existing.cf_resource_type = resource["Type"]
        existing.logical_resource_id = logical_id
        resource_map._parsed_resources[logical_id] = existing
    resource_map._template = self.template_dict
    resource_map._resource_json_map = resources


ChangeSet.apply = _apply


def _update_log_group(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    properties = cloudformation_json.get("Properties", {})
    if "RetentionInDays" in properties:
        original_resource.retention_in_days = properties["RetentionInDays"]
    return original_resource


LogGroup.update_from_cloudformation_json = classmethod(_update_log_group)

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
