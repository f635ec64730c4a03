// The slice of ECharts the admin uses, registered once. Only imported dynamically (see
// TrendChart.vue), so its ~300 KB stay out of the first load.
import * as echarts from 'echarts/core'
import { LineChart } from 'echarts/charts'
import { GridComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([LineChart, GridComponent, TooltipComponent, CanvasRenderer])

export { echarts }
