package dev.imgtrain.model;

import dev.imgtrain.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkSummaryTest {
    @Test
    void theSeedNetworkHasKerasFigures() {
        NetworkSummary s = NetworkSummary.of(NetworkFactory.network(new ConfigLoader().load().model(), 784, 10, 1));
        assertEquals(784, s.inputs());
        assertEquals(List.of(new NetworkSummary.Row("dense", "Dense", "(None, 512)", "relu", 401_920),
                new NetworkSummary.Row("dense_1", "Dense, output", "(None, 10)", "softmax", 5_130)), s.layers());
        assertEquals(407_050, s.totalParams());
        String text = s.text();
        assertTrue(text.contains(" dense (Dense)               (None, 512)               401920"), text);
        assertTrue(text.contains("Total params: 407,050\n"), text);
        assertTrue(text.contains("Non-trainable params: 0\n"), text);
    }

    @Test
    void twoHiddenLayersOnCifar() {
        NetworkSummary s = NetworkSummary.of(NetworkFactory.network(new ConfigLoader()
                .withFlag("train.preset", "cifar10-dense-32-16").load().model(), 3072, 10, 1));
        assertEquals(List.of(98_336L, 528L, 170L), s.layers().stream().map(NetworkSummary.Row::params).toList());
        assertEquals(99_034, s.totalParams());
        assertEquals("dense_2", s.layers().get(2).name());
    }
}
