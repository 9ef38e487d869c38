package io.github.cdclake.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueRequest;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;
import software.amazon.awssdk.services.secretsmanager.model.ResourceNotFoundException;

/** The provider over a Secrets Manager client stand-in: no network. */
class SecretsManagerConfigProviderTest {

    private static final String PASSWORD = "s3cr3t-never-in-messages";

    /** Answers GetSecretValue from a map of SecretStrings (a byte[] value is a binary secret). */
    private static final class FakeClient implements SecretsManagerClient {
        private final Map<String, Object> secrets;
        boolean closed;

        FakeClient(Map<String, Object> secrets) {
            this.secrets = secrets;
        }

        @Override
        public GetSecretValueResponse getSecretValue(GetSecretValueRequest request) {
            Object value = secrets.get(request.secretId());
            if (value == null) {
                throw ResourceNotFoundException.builder().message("Secrets Manager can't find the specified secret.")
                        .build();
            }
            return value instanceof byte[]
                    ? GetSecretValueResponse.builder().secretBinary(SdkBytes.fromByteArray((byte[]) value)).build()
                    : GetSecretValueResponse.builder().secretString((String) value).build();
        }

        @Override
        public String serviceName() {
            return "secretsmanager";
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final FakeClient client = new FakeClient(Map.of(
            "cdc/debezium", "{\"username\": \"debezium\", \"password\": \"" + PASSWORD + "\", \"port\": 5432,"
                    + " \"ssl\": true, \"note\": null, \"hosts\": [\"a\", \"b\"]}",
            "plain", PASSWORD,
            "binary", PASSWORD.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    private final SecretsManagerConfigProvider provider =
            new SecretsManagerConfigProvider(new SecretsManagerConfigProvider.SdkReader(client, "eu-west-1"));

    @Test
    void getReturnsEveryFieldOfAJsonSecret() {
        Map<String, String> data = provider.get("cdc/debezium").data();
        assertEquals(Set.of("username", "password", "port", "ssl", "hosts"), data.keySet());
        assertEquals(PASSWORD, data.get("password"));
        assertEquals("5432", data.get("port"));
        assertEquals("true", data.get("ssl"));
        assertEquals("[\"a\",\"b\"]", data.get("hosts").replace(" ", ""));
    }

    @Test
    void getWithKeysReturnsOnlyThoseKeys() {
        ConfigData data = provider.get("cdc/debezium", Set.of("password"));
        assertEquals(Map.of("password", PASSWORD), data.data());
    }

    @Test
    void aSecretThatIsNotAJsonObjectIsWholeUnderValue() {
        assertEquals(Map.of("value", PASSWORD), provider.get("plain").data());
        assertEquals(Map.of("value", PASSWORD), provider.get("binary", Set.of("value")).data());
        assertEquals(Map.of("value", "[1,2]"), SecretsManagerConfigProvider.fields("[1,2]"));
    }

    @Test
    void aMissingKeyIsNamedWithTheSecretButNotTheValue() {
        ConfigException error = assertThrows(ConfigException.class,
                () -> provider.get("cdc/debezium", Set.of("passwd")));
        assertTrue(error.getMessage().contains("'cdc/debezium' has no key 'passwd'"), error.getMessage());
        assertTrue(error.getMessage().contains("password, port, ssl, username"), error.getMessage());
        assertFalse(error.getMessage().contains(PASSWORD));
    }

    @Test
    void aKeyOfASecretThatIsNotJsonSaysSo() {
        ConfigException error = assertThrows(ConfigException.class, () -> provider.get("plain", Set.of("password")));
        assertTrue(error.getMessage().contains("'plain' is not a JSON object"), error.getMessage());
        assertTrue(error.getMessage().contains("'value'"), error.getMessage());
        assertFalse(error.getMessage().contains(PASSWORD));
    }

    @Test
    void aMissingSecretIsNamed() {
        ConfigException error = assertThrows(ConfigException.class, () -> provider.get("cdc/other", Set.of("password")));
        assertEquals("secret 'cdc/other' not found in Secrets Manager (region eu-west-1)", error.getMessage());
    }

    @Test
    void aReferenceWithoutASecretNameIsAnError() {
        assertThrows(ConfigException.class, () -> provider.get("", Set.of("password")));
    }

    @Test
    void configureNeedsARegionAndTakesAnEndpoint() {
        try (SecretsManagerConfigProvider unconfigured = new SecretsManagerConfigProvider()) {
            ConfigException error = assertThrows(ConfigException.class, () -> unconfigured.configure(Map.of()));
            assertTrue(error.getMessage().contains("param.region"), error.getMessage());
            // builds the client only: no call is made until get()
            unconfigured.configure(Map.of("region", "us-east-1", "endpoint", "http://127.0.0.1:4566"));
        }
    }

    @Test
    void closeClosesTheClient() {
        provider.close();
        assertTrue(client.closed);
    }
}
