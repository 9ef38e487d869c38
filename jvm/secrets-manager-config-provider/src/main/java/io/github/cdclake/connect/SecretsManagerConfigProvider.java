package io.github.cdclake.connect;

import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.provider.ConfigProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.protocols.jsoncore.JsonNode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;
import software.amazon.awssdk.services.secretsmanager.model.ResourceNotFoundException;

/**
 * Kafka Connect config provider for AWS Secrets Manager: {@code ${secretsmanager:<secret name>:<key>}}.
 *
 * <p>Why it exists: MSK Connect's documentation points to AWS's msk-config-providers, but that jar, like every
 * other Secrets Manager provider we know of, is not served from Maven Central, and this project takes its JVM
 * parts from Maven Central only. The same class runs on the local worker (against the local AWS endpoint) and on
 * MSK Connect, so both resolve the connector's password the same way.
 *
 * <pre>
 * config.providers=secretsmanager
 * config.providers.secretsmanager.class=io.github.cdclake.connect.SecretsManagerConfigProvider
 * config.providers.secretsmanager.param.region=eu-west-1
 * config.providers.secretsmanager.param.endpoint=http://127.0.0.1:4566   (optional: an endpoint other than AWS's)
 * </pre>
 *
 * <p>A path is a secret's name (an ARN's colons cannot stand in a {@code ${provider:path:key}} reference). A
 * SecretString that is a JSON object gives one key per field: strings as they are, numbers and booleans as their
 * text, nested objects and arrays as their JSON; null fields are absent. Any other SecretString (and a binary
 * secret, as UTF-8) is given whole under the key {@value #WHOLE_SECRET_KEY}. Credentials come from the AWS SDK's
 * default chain. Error messages name the secret and the key, never a value.
 */
public class SecretsManagerConfigProvider implements ConfigProvider {

    /** Worker parameter {@code config.providers.<name>.param.region}: the secrets' AWS region (required). */
    public static final String REGION_CONFIG = "region";
    /** Worker parameter {@code config.providers.<name>.param.endpoint}: another Secrets Manager endpoint URL. */
    public static final String ENDPOINT_CONFIG = "endpoint";
    /** The key of a secret whose SecretString is not a JSON object. */
    public static final String WHOLE_SECRET_KEY = "value";

    /** Reads a secret's SecretString by name; the SDK client in production, a map in the tests. */
    interface SecretReader extends AutoCloseable {
        String read(String secretName);

        @Override
        default void close() {
        }
    }

    private SecretReader reader;

    public SecretsManagerConfigProvider() {
    }

    SecretsManagerConfigProvider(SecretReader reader) {
        this.reader = reader;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        String region = param(configs, REGION_CONFIG);
        if (region == null) {
            throw new ConfigException("SecretsManagerConfigProvider: set the worker property "
                    + "config.providers.<name>.param." + REGION_CONFIG + " to the secrets' AWS region");
        }
        String endpoint = param(configs, ENDPOINT_CONFIG);
        SecretsManagerClientBuilder builder = SecretsManagerClient.builder()
                .region(Region.of(region))
                .httpClient(UrlConnectionHttpClient.create());
        if (endpoint != null) {
            try {
                builder.endpointOverride(URI.create(endpoint));
            } catch (IllegalArgumentException bad) {
                throw new ConfigException(ENDPOINT_CONFIG, endpoint, "not a URL: " + bad.getMessage());
            }
        }
        reader = new SdkReader(builder.build(), region);
    }

    /** Every key of the secret named by {@code path}. */
    @Override
    public ConfigData get(String path) {
        return new ConfigData(fields(read(path)));
    }

    /** The named keys of the secret named by {@code path}; a key the secret lacks is an error. */
    @Override
    public ConfigData get(String path, Set<String> keys) {
        return new ConfigData(select(path, fields(read(path)), keys));
    }

    @Override
    public void close() {
        if (reader != null) {
            reader.close();
        }
    }

    private String read(String path) {
        if (path == null || path.isEmpty()) {
            throw new ConfigException("SecretsManagerConfigProvider: no secret name in the reference; "
                    + "write ${<provider>:<secret name>:<key>}");
        }
        if (reader == null) {
            throw new IllegalStateException("SecretsManagerConfigProvider used before configure()");
        }
        return reader.read(path);
    }

    /** The secret's keys and values: a JSON object's fields, or the whole string under {@value #WHOLE_SECRET_KEY}. */
    static Map<String, String> fields(String secretString) {
        JsonNode json = parseOrNull(secretString);
        Map<String, String> fields = new LinkedHashMap<>();
        if (json == null || !json.isObject()) {
            fields.put(WHOLE_SECRET_KEY, secretString);
            return fields;
        }
        for (Map.Entry<String, JsonNode> field : json.asObject().entrySet()) {
            JsonNode value = field.getValue();
            if (value.isNull()) {
                continue;
            }
            fields.put(field.getKey(), value.isString() || value.isNumber() || value.isBoolean()
                    ? value.text() : value.toString());
        }
        return fields;
    }

    static Map<String, String> select(String secretName, Map<String, String> fields, Set<String> keys) {
        Map<String, String> selected = new LinkedHashMap<>();
        for (String key : keys) {
            if (!fields.containsKey(key)) {
                throw missingKey(secretName, fields, key);
            }
            selected.put(key, fields.get(key));
        }
        return selected;
    }

    private static ConfigException missingKey(String secretName, Map<String, String> fields, String key) {
        if (fields.keySet().equals(Collections.singleton(WHOLE_SECRET_KEY))) {
            return new ConfigException("secret '" + secretName + "' is not a JSON object, so it has no key '" + key
                    + "': its whole SecretString is under the key '" + WHOLE_SECRET_KEY + "'");
        }
        return new ConfigException("secret '" + secretName + "' has no key '" + key + "' (its keys: "
                + String.join(", ", new TreeSet<>(fields.keySet())) + ")");
    }

    /** The parsed JSON, or null when the string is not JSON. The parser's message may quote the secret: dropped. */
    private static JsonNode parseOrNull(String text) {
        try {
            return JsonNode.parser().parse(text);
        } catch (RuntimeException notJson) {
            return null;
        }
    }

    private static String param(Map<String, ?> configs, String name) {
        Object value = configs == null ? null : configs.get(name);
        String text = value == null ? null : value.toString().trim();
        return text == null || text.isEmpty() ? null : text;
    }

    /** GetSecretValue through the SDK, with the SDK's default credentials chain. */
    static final class SdkReader implements SecretReader {
        private final SecretsManagerClient client;
        private final String region;

        SdkReader(SecretsManagerClient client, String region) {
            this.client = client;
            this.region = region;
        }

        @Override
        public String read(String secretName) {
            GetSecretValueResponse response;
            try {
                response = client.getSecretValue(request -> request.secretId(secretName));
            } catch (ResourceNotFoundException missing) {
                throw new ConfigException("secret '" + secretName + "' not found in Secrets Manager (region "
                        + region + ")");
            } catch (SdkException failed) {
                // the SDK's messages describe the call (access denied, unreachable endpoint), never the secret's value
                throw new ConfigException("cannot read secret '" + secretName + "' from Secrets Manager (region "
                        + region + "): " + failed.getMessage());
            }
            if (response.secretString() != null) {
                return response.secretString();
            }
            if (response.secretBinary() != null) {
                return response.secretBinary().asUtf8String();
            }
            throw new ConfigException("secret '" + secretName + "' has no value");
        }

        @Override
        public void close() {
            client.close();
        }
    }
}
