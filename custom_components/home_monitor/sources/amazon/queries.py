"""The GraphQL the client sends to ``alexa.amazon.<domain>/nexus/v1/graphql``.

Discovery (at set-up and about once a day) lists the account's endpoints, then
asks the air-quality monitors for their features and range labels. Each poll
reads every monitor's state in ONE batched request. The state query asks only
for what becomes a reading: no friendly name, accuracy or last-change time,
and no other sensor types.
"""

from __future__ import annotations

from typing import Any, Final

ENDPOINTS_OPERATION: Final = "getAirQualityMonitors"
FEATURES_OPERATION: Final = "getAirQualityMonitorFeatures"
STATE_OPERATION: Final = "getAirQualityMonitorStates"

ENDPOINTS_QUERY: Final = """
query getAirQualityMonitors {
  listEndpoints(listEndpointsInput: {includeHouseholdDevices: true}) {
    endpoints {
      endpointId: id
      friendlyNameObject { value { text } }
      manufacturer { value { text } }
      serialNumber { value { text } }
      softwareVersion { value { text } }
      legacyIdentifiers { dmsIdentifier { deviceType { value { text } } } }
    }
  }
}
"""

FEATURES_QUERY: Final = """
query getAirQualityMonitorFeatures($endpointIds: [String]!) {
  listEndpoints(listEndpointsInput: {endpointIds: $endpointIds, includeHouseholdDevices: true}) {
    endpoints {
      endpointId: id
      features {
        name
        instance
        configuration { ... on RangeConfiguration { friendlyName { value { text } } } }
      }
    }
  }
}
"""

STATE_QUERY: Final = """
query getAirQualityMonitorStates($endpointIds: [String]!) {
  listEndpoints(listEndpointsInput: {latencyTolerance: LOW, endpointIds: $endpointIds, includeHouseholdDevices: true}) {
    endpoints {
      endpointId: id
      features {
        name
        instance
        properties {
          name
          error { type message }
          ... on TemperatureSensor { value { value scale } timeOfSample }
          ... on RangeValue { rangeValue { value } timeOfSample }
          ... on Reachability { reachabilityStatusValue timeOfSample }
        }
      }
    }
  }
}
"""


def _compact(query: str) -> str:
    return " ".join(query.split())


def endpoints_request() -> dict[str, Any]:
    """Return the body listing the account's endpoints."""
    return {"operationName": ENDPOINTS_OPERATION, "query": _compact(ENDPOINTS_QUERY)}


def features_request(endpoint_ids: list[str]) -> dict[str, Any]:
    """Return the body asking monitors for their features."""
    return {
        "operationName": FEATURES_OPERATION,
        "variables": {"endpointIds": endpoint_ids},
        "query": _compact(FEATURES_QUERY),
    }


def state_request(endpoint_ids: list[str]) -> list[dict[str, Any]]:
    """Return the batched body reading every monitor's state at once."""
    return [
        {
            "operationName": STATE_OPERATION,
            "variables": {"endpointIds": endpoint_ids},
            "query": _compact(STATE_QUERY),
        }
    ]
