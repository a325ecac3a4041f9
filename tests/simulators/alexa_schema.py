"""The part of Amazon's Alexa GraphQL schema the simulator serves.

Built from the fields aioamazondevices' queries (16.x and 17.x) and Home
Monitor's use; graphql-core parses and validates every request against it.
"""

from __future__ import annotations

from functools import cache

from graphql import GraphQLSchema, build_schema

SDL = """
scalar JSON

enum LatencyTolerance { LOW MEDIUM HIGH }

input ListEndpointsInput {
  endpointIds: [String]
  includeHouseholdDevices: Boolean
  latencyTolerance: LatencyTolerance
  displayCategory: String
}

type Query {
  listEndpoints(listEndpointsInput: ListEndpointsInput!): ListEndpointsResponse
}

type ListEndpointsResponse { endpoints: [Endpoint!] }

type Text { text: String }
type TextValue { value: Text }
type StringValue { value: String }
type BooleanValue { value: Boolean }
type NumberValue { value: Float }
type TemperatureValue { value: Float scale: String }
type TemperatureBounds { minimum: TemperatureValue maximum: TemperatureValue }
type TemperatureRanges { heating: TemperatureBounds cooling: TemperatureBounds }
type ColorValue { hue: Float saturation: Float brightness: Float }

type Endpoint {
  id: String!
  friendlyNameObject: TextValue
  manufacturer: TextValue
  model: TextValue
  serialNumber: TextValue
  softwareVersion: TextValue
  creationTime: String
  enablement: String
  displayCategories: DisplayCategories
  alexaEnabledMetadata: AlexaEnabledMetadata
  legacyIdentifiers: LegacyIdentifiers
  legacyAppliance: LegacyAppliance
  features: [Feature!]
}

type CategoryValue { value: String }
type DisplayCategories { all: [CategoryValue] primary: CategoryValue }
type AlexaEnabledMetadata { iconId: String isVisible: Boolean category: String capabilities: [String] }
type DmsIdentifier { deviceType: TextValue }
type ChrsIdentifier { entityId: String }
type LegacyIdentifiers { dmsIdentifier: DmsIdentifier chrsIdentifier: ChrsIdentifier }
type LegacyAppliance { applianceId: String }

type Feature {
  name: String!
  instance: String
  properties: [Property!]
  operations: [Operation]
  configuration: Configuration
}
type Operation { name: String }
type PropertyError { type: String message: String }

interface Property { name: String type: String accuracy: Float error: PropertyError }

type Illuminance implements Property { name: String type: String accuracy: Float error: PropertyError illuminanceValue: NumberValue timeOfSample: String timeOfLastChange: String }
type Reachability implements Property { name: String type: String accuracy: Float error: PropertyError reachabilityStatusValue: String timeOfSample: String timeOfLastChange: String }
type DetectionState implements Property { name: String type: String accuracy: Float error: PropertyError detectionStateValue: String timeOfSample: String timeOfLastChange: String }
type TemperatureSensor implements Property { name: String type: String accuracy: Float error: PropertyError value: TemperatureValue timeOfSample: String timeOfLastChange: String }
type RangeValue implements Property { name: String type: String accuracy: Float error: PropertyError rangeValue: NumberValue timeOfSample: String timeOfLastChange: String }
type ToggleState implements Property { name: String type: String accuracy: Float error: PropertyError toggleStateValue: String timeOfSample: String timeOfLastChange: String }
type Power implements Property { name: String type: String accuracy: Float error: PropertyError powerStateValue: String timeOfSample: String timeOfLastChange: String }
type Brightness implements Property { name: String type: String accuracy: Float error: PropertyError brightnessStateValue: Float timeOfSample: String timeOfLastChange: String }
type Color implements Property { name: String type: String accuracy: Float error: PropertyError colorStateValue: ColorValue timeOfSample: String timeOfLastChange: String }
type DetectionSensitivity implements Property { name: String type: String accuracy: Float error: PropertyError detectionSensitivityValue: String timeOfSample: String timeOfLastChange: String }
type EnablementState implements Property { name: String type: String accuracy: Float error: PropertyError enablementStateValue: String timeOfSample: String timeOfLastChange: String }
type DetectionRange implements Property { name: String type: String accuracy: Float error: PropertyError detectionRangeValue: String timeOfSample: String timeOfLastChange: String }
type DetectionTechnology implements Property { name: String type: String accuracy: Float error: PropertyError detectionTechnologyValue: String timeOfSample: String timeOfLastChange: String }
type Mode implements Property { name: String type: String accuracy: Float error: PropertyError modeValue: StringValue timeOfSample: String timeOfLastChange: String }
type ThermostatMode implements Property { name: String type: String accuracy: Float error: PropertyError thermostatModeValue: String timeOfSample: String timeOfLastChange: String }
type Setpoint implements Property { name: String type: String accuracy: Float error: PropertyError value: TemperatureValue deviceNativeScaleValue: String timeOfSample: String timeOfLastChange: String }
type ThermostatScheduleScheduleEnabled implements Property { name: String type: String accuracy: Float error: PropertyError thermostatScheduleScheduleEnabledValue: BooleanValue timeOfSample: String timeOfLastChange: String }
type ThermostatScheduleAdaptiveRecoveryEnabled implements Property { name: String type: String accuracy: Float error: PropertyError thermostatScheduleAdaptiveRecoveryEnabledValue: BooleanValue timeOfSample: String timeOfLastChange: String }
type ThermostatScheduleLastActivityType implements Property { name: String type: String accuracy: Float error: PropertyError thermostatScheduleLastActivityTypeValue: StringValue timeOfSample: String timeOfLastChange: String }
type AdaptiveRecoveryStatus implements Property { name: String type: String accuracy: Float error: PropertyError adaptiveRecoveryStatusValue: StringValue timeOfSample: String timeOfLastChange: String }
type ThermostatConfigurationSetupState implements Property { name: String type: String accuracy: Float error: PropertyError thermostatSetupStateValue: StringValue timeOfSample: String timeOfLastChange: String }
type ThermostatConfigurationTemperatureScale implements Property { name: String type: String accuracy: Float error: PropertyError thermostatTemperatureScaleValue: StringValue timeOfSample: String timeOfLastChange: String }
type ThermostatConfigurationAllowedTemperatureRange implements Property { name: String type: String accuracy: Float error: PropertyError thermostatAllowedTemperatureRangeValue: TemperatureRanges timeOfSample: String timeOfLastChange: String }

union Configuration = ModeConfiguration | RangeConfiguration | ThermostatConfiguration | ThermostatConfigurationConfiguration | ThermostatScheduleConfiguration | ToggleConfiguration | GenericConfiguration

type Resources { friendlyName: TextValue }
type ModeOption { value: String modeResources: Resources }
type ModeConfiguration { friendlyName: TextValue order: Boolean modeOptions: [ModeOption] }
type SupportedRange { minimumValue: Float maximumValue: Float precision: Float }
type Preset { rangeValue: Float presetResources: Resources }
type RangeConfiguration { friendlyName: TextValue supportedRange: SupportedRange unitOfMeasure: TextValue presets: [Preset] }
type ThermostatConfiguration { supportedModes: [String] }
type Terminal { name: String purpose: String }
type Stages { heating: Int cooling: Int combined: Int }
type LockoutTemperature { heating: TemperatureBounds cooling: TemperatureBounds increment: TemperatureValue }
type ComponentConstraints { supportedTerminals: [Terminal] maximumStages: Stages supportedSwitchOverTypes: [String] lockoutTemperature: LockoutTemperature }
type ThermostatConfigurationConfiguration {
  supportedResetStates: [StringValue]
  componentConfigurationConstraints: ComponentConstraints
  requiredSetupInformation: [String]
  supportedTemperatureScales: [String]
  safetyTemperatures: TemperatureRanges
  minimumSetpointDifferential: TemperatureValue
}
type ThermostatScheduleConfiguration { supportedFanModes: [String] supportsAdaptiveRecovery: Boolean maxEntryPerDay: Int }
type ToggleConfiguration { friendlyName: TextValue }
type GenericConfiguration { genericValue: JSON }

input FeatureControlRequest {
  endpointId: String!
  featureName: String!
  featureOperationName: String!
  instance: String
  payload: JSON
}
input SetEndpointFeaturesInput { featureControlRequests: [FeatureControlRequest!]! }
type FeatureControlResponse { endpointId: String featureName: String instance: String featureOperationName: String code: String }
type FeatureControlError { endpointId: String featureName: String instance: String featureOperationName: String code: String message: String }
type SetEndpointFeaturesResponse { featureControlResponses: [FeatureControlResponse] errors: [FeatureControlError] }

type Mutation {
  setEndpointFeatures(setEndpointFeaturesInput: SetEndpointFeaturesInput!): SetEndpointFeaturesResponse
}
"""


@cache
def schema() -> GraphQLSchema:
    """Return the schema (built once)."""
    return build_schema(SDL)
